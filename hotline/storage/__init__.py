"""hotline.storage"""
