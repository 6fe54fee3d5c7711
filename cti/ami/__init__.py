"""cti.ami"""
