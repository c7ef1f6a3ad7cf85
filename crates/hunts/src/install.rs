//! Installing and updating Elastic's hunting library and ES|QL rules in the user's data
//! directory. (Being written.)
