from bench.local_cloud.cli import main

raise SystemExit(main())
