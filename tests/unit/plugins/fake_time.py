"""A clock for code that waits: sleeping moves it on at once, and every pause is recorded."""


class FakeTime(object):
    """Stands in for the time module (monotonic, sleep) or for a clock/sleep pair.

    `on_sleep`, when set, is called after each pause, so a test can act as a service meanwhile.
    """

    def __init__(self):
        self.now = 0.0
        self.sleeps = []
        self.on_sleep = None

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()
