"""Message catalogues, one module per locale, each a dict ``MESSAGES`` keyed alike."""
