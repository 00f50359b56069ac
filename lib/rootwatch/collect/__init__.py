"""Reading AWS: sessions (``session``), the evidence recorder (``evidence``), one module per service,
the organization's accounts and regions (``organization``), Athena/Lake queries (``athena``), and the
chain walk over accounts (``chain``)."""
