"""A public test kit for plugin authors and the hub's own tests."""
