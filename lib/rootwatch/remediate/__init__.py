"""Remediation: a change as data (``actions``), the names in use (``existing``), failing links → changes
(``plan``), their forms (``render``), and the audit → plan → record → apply → re-audit loop (``apply``)."""
