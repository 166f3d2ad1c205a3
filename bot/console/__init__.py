"""The staff console: log in, work the queue of cases, reply in live chats, statistics."""
