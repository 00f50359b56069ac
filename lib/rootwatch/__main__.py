from rootwatch.cli import main

raise SystemExit(main())
