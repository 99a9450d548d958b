# SPDX-License-Identifier: Apache-2.0
import sys

from pcifilter.cli import main

sys.exit(main())
