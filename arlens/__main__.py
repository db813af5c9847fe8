import sys

from arlens.cli import main

sys.exit(main())
