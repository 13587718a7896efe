"""What to send: httpie's item grammar, nested JSON, bodies, the request spec."""
