"""hotline.api"""
