"""The embedded stack: nats-server, a MongoDB-wire server and an S3 server started from pip packages."""
