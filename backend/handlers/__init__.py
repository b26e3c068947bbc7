"""Lambda entry points: thin adapters from API Gateway proxy events to ``backend.service``."""
