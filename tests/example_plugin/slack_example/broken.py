"""A plugin module that cannot even be imported: the hub must report it and carry on."""

import this_module_does_not_exist  # noqa: F401
