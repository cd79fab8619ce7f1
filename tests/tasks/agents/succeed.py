"""An agent that succeeds: echoes what it was asked."""
import sys

prompt = sys.stdin.read()
print(f"Done: {prompt.splitlines()[0] if prompt else ''}")
