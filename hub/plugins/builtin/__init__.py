"""Default plugins shipped with the core, registered through entry points like any other."""
