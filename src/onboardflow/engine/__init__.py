"""Drives the core: the batch engine, timers, the worker loop, the dispatcher and the clocks.

Everything here talks to the world only through the ports (store, channels, clock).
"""
