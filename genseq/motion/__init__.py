"""The motion path: video and BVH to MotionClip, encodings for the model, skeleton rendering."""
