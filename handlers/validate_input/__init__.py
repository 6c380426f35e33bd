"""ValidateInput: check an execution's input and plan every name, budget and config of the run."""
