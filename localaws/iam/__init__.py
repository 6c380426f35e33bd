"""IAM policy evaluation for the local AWS, backed by the @cloud-copilot/iam-simulate npm package."""
