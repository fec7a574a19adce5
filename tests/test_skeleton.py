"""SMPL skeleton constants: tree, names, mirroring."""

import pytest

from humanlib import skeleton as sk


def test_tree_is_a_tree_rooted_at_the_pelvis():
    assert len(sk.PARENTS) == len(sk.JOINT_NAMES) == sk.NUM_JOINTS == 24
    assert sk.PARENTS[0] == -1 and sk.JOINT_NAMES[0] == "pelvis"
    for child, parent in enumerate(sk.PARENTS[1:], start=1):
        assert 0 <= parent < child, f"joint {child} must come after its parent {parent}"


@pytest.mark.parametrize("child, parent", [
    ("left_elbow", "left_shoulder"), ("right_knee", "right_hip"), ("head", "neck"),
    ("left_collar", "spine3"), ("right_hand", "right_wrist"), ("left_foot", "left_ankle"),
])
def test_named_parents(child, parent):
    assert sk.PARENTS[sk.joint(child)] == sk.joint(parent)


def test_unknown_joint_names_the_known_ones():
    with pytest.raises(KeyError, match="left_elbow"):
        sk.joint("left_elbo")


def test_mirror_permutation_is_an_involution_that_swaps_sides():
    perm = sk.MIRROR_PERMUTATION
    assert sorted(perm) == list(range(sk.NUM_JOINTS))
    for i, j in enumerate(perm):
        assert perm[j] == i
        a, b = sk.JOINT_NAMES[i], sk.JOINT_NAMES[j]
        assert a.replace("left_", "X").replace("right_", "X") == b.replace("left_", "X").replace("right_", "X")
    assert perm[sk.joint("spine1")] == sk.joint("spine1")
    assert perm[sk.joint("left_wrist")] == sk.joint("right_wrist")
    # mirroring respects the tree
    for child, parent in enumerate(sk.PARENTS[1:], start=1):
        assert sk.PARENTS[perm[child]] == perm[parent]


def test_body_joint_parents_follow_the_smpl_tree():
    parents = sk.body_joint_parents()
    assert len(parents) == sk.NUM_BODY_JOINTS == 21
    for k, p in enumerate(parents):
        joint = sk.BODY_JOINTS[k]
        if p == -1:
            assert sk.PARENTS[joint] == 0, "only children of the pelvis have no body-joint parent"
        else:
            assert sk.BODY_JOINTS[p] == sk.PARENTS[joint]
            assert p < k
    # the released Pose-NDF code's table is shifted by one: ours is not
    assert parents[sk.BODY_JOINTS.index(sk.joint("left_knee"))] == sk.BODY_JOINTS.index(sk.joint("left_hip"))
