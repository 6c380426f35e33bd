"""`make bench`: the figures users feel, measured and written as JSON plus a markdown table."""
