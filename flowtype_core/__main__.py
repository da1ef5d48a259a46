import sys

from flowtype_core.cli import main

sys.exit(main())
