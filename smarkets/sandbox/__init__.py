"""The sandbox exchange: a small in-process exchange to run the client against."""
