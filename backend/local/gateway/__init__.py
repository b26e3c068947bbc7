"""API Gateway (REST API, regional, stage ``dev``) emulated in front of the Lambda handlers: ``events`` turns HTTP
requests into proxy events and results back into responses (pure); ``stage`` is the HTTP app of one region."""
