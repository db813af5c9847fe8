"""`python -m benchmarks` (`make bench`): AR Lens against plain pandas at 1M and 10M invoices."""

import sys

from benchmarks.runner import main

sys.exit(main())
