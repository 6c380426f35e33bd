"""The embedded local AWS: moto in server mode, fixed for this stack, plus a local SageMaker."""
