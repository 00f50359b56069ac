"""Evidence as documented pandas frames: the chain's tables and their schemas (``tables``), the IAM
credential report typed and its root user's row (``credential_report``)."""
