"""rootwatch: signed audit evidence that an AWS account's root user — and the rest of the CIS
"Monitoring" controls — is really watched.

Kept free of heavy imports so ``rootwatch --help`` and the pattern engine start fast.
"""

__version__ = "0.1.0"
