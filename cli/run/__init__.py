"""Running the plans: one request, many, a WebSocket; the engine's answers as messages."""
