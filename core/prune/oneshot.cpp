// engine: in progress
