"""An agent that never finishes."""
import sys
import time

sys.stdin.read()
print("thinking", flush=True)
time.sleep(600)
