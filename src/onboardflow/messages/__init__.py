"""Messages: templates rendered per channel and locale, and the addressed deliveries channel adapters take."""
