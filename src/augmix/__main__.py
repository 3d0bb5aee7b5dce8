import sys

from augmix.cli import main

sys.exit(main())
