"""Networks: plain nn.Modules (no Lightning).

Chapter 4: ``SoundFCN`` (Table 4.1) and ``VGGFCN`` (Table 4.2, object and action models);
``original`` imports the authors' released PyTorch weights into them.
"""

from ipd.models.layers import Geometry
from ipd.models.original import load_original_action_object, load_original_sound
from ipd.models.sound_fcn import SoundFCN
from ipd.models.vgg_fcn import VGGFCN

__all__ = ["VGGFCN", "Geometry", "SoundFCN", "load_original_action_object", "load_original_sound"]
