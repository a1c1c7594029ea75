"""Model folders: their files and checksums, the bundle loaded from one, the Hub cache, listing, export."""
