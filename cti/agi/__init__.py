"""cti.agi"""
