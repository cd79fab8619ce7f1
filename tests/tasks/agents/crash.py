"""An agent that exits non-zero with nothing useful to say."""
import sys

sys.stdin.read()
sys.exit(3)
