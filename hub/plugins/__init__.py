"""The plugin seam: hookspecs, the channel/transport contract and the plugin manager."""
