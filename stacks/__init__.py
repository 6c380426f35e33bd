"""CDK code for ML Stack: the stack, its components and its configuration."""
