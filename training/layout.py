"""The prepared-dataset layout that the state machine, the local SageMaker and Autopilot rely on."""

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# manifest key -> S3/local prefix of the channel, relative to the dataset root.
CHANNELS = {
    "train": "train/",
    "validation": "validation/",
    "test": "test/",
    "test_raw": "test-raw/",
    "autopilot": "autopilot/",
}
# channel -> its one file, relative to the dataset root.
FILES = {
    "train": "train/train.csv",
    "validation": "validation/validation.csv",
    "test": "test/test.csv",
    "test_raw": "test-raw/test.csv",
    "autopilot": "autopilot/train.csv",
}
