from zoo.golden.check import *  # noqa: F401,F403
