import sys

from talentbrief.cli import main

sys.exit(main())
