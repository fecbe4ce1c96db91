"""Rotating JumpServer connection tokens into the database secrets."""
