// filled in by the experiment-file work
