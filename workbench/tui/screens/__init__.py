"""One screen per concern: stacks, run, results (+ detail), history."""
