"""Root activity beyond event history's 90 days: scan a trail's CloudTrail log files.

    archive = open_archive("s3://org-trail-bucket/prefix")      # or a local folder
    result = scan(archive, compile_pattern(text), start, end, cache="~/.cache/rootwatch")
    result.events, result.stats.line()
    frames.archive_matches(result).to_parquet("root.parquet")
"""

from rootwatch.logarchive.scan import ArchiveScan, ScanStats
from rootwatch.logarchive.sources import LocalArchive, S3Archive, open_archive
from rootwatch.logarchive.window import scan

__all__ = ["ArchiveScan", "LocalArchive", "S3Archive", "ScanStats", "open_archive", "scan"]
