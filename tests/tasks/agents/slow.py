"""An agent that takes a moment, then succeeds (so a page can watch it run)."""
import sys
import time

prompt = sys.stdin.read()
time.sleep(2)
print(f"Slowly done: {prompt.splitlines()[0] if prompt else ''}")
