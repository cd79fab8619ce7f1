"""An agent whose provider is overloaded: the error on stderr, exit status 1."""
import sys

sys.stdin.read()
print("working...")
print("API Error: 429 overloaded", file=sys.stderr)
sys.exit(1)
