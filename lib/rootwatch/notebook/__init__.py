"""What the notebooks call: the evidence workbook (``workbook``), exploration (``explore``) and their
escaped display helpers (``display``). Nothing below imports this package."""
