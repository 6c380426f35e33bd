"""Datasets, data preparation, the XGBoost training script and its inference contract."""
