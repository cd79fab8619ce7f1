"""Tests for runtimes, daemon tokens and the local daemon."""
