"""The query layer: a FastAPI app over the store (``api.app.create_app``)."""
